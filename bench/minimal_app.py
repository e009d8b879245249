"""The baseline for bench/viewers.py: a Dash app whose one callback returns a constant."""

from dash import Dash, Input, Output, dcc, html

app = Dash(__name__)
app.layout = html.Div([dcc.Interval(id="tick", interval=1000), html.Div(id="out")])


@app.callback(Output("out", "children"), Input("tick", "n_intervals"))
def constant(_n: int | None) -> str:
    return "constant"


server = app.server
