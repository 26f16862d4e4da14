"""The national board pack: aggregate many scorecards (ICSs x periods) into one report."""

from conformance.board.aggregate import BOARD_VERSION, build_board, latest_scorecards
from conformance.board.render import (
    FORMATS,
    render,
    render_csv,
    render_html,
    render_json,
    scorecards_folder,
    write_html_pack,
)

__all__ = [
    "BOARD_VERSION",
    "FORMATS",
    "build_board",
    "latest_scorecards",
    "render",
    "render_csv",
    "render_html",
    "render_json",
    "scorecards_folder",
    "write_html_pack",
]
