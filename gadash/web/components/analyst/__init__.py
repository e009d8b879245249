"""The analyst view's pieces: table columns, controls, the page layout, and rendering
answers into them."""
