"""The plain Flask routes beside the Dash pages: status and health, metrics, the team's
saved views and annotations, TV links."""
