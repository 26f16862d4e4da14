"""The national board pack: aggregate many scorecards (ICSs x periods) into one report."""

from conformance.board.aggregate import BOARD_VERSION, build_board
from conformance.board.render import FORMATS, render, render_csv, render_html, render_json

__all__ = [
    "BOARD_VERSION",
    "FORMATS",
    "build_board",
    "render",
    "render_csv",
    "render_html",
    "render_json",
]
