"""Design tokens: colours through the theme, spacing and named styles."""

import reflex as rx

SIDEBAR_WIDTH = "13em"
HEADER = {"background": rx.color("accent", 9), "color": "white", "padding": "0.6em 1.2em"}
SIDEBAR = {"background": rx.color("gray", 2), "border_right": f"1px solid {rx.color('gray', 5)}",
           "width": SIDEBAR_WIDTH, "min_height": "calc(100vh - 3.2em)", "padding": "1em 0.6em"}
CONTENT = {"padding": "1.2em 1.6em", "flex": "1", "min_width": "0"}
MENU_LINK = {"padding": "0.5em 0.8em", "border_radius": "6px", "width": "100%",
             "_hover": {"background": rx.color("accent", 3)}}
BANNER = {"background": rx.color("amber", 3), "color": rx.color("amber", 11), "padding": "0.4em 1.2em"}

# Budgeting pages (issue 3)
NUM = {"text_align": "right", "font_variant_numeric": "tabular-nums", "white_space": "nowrap"}
CELL_INPUT = {"min_width": "6em"}
AMOUNT_INPUT = {"text_align": "right", "font_variant_numeric": "tabular-nums", "width": "9em"}
ROW_ERROR = {"background": rx.color("red", 3)}
ROW_WARNING = {"background": rx.color("amber", 3)}
PANEL = {"border": f"1px solid {rx.color('gray', 5)}", "border_radius": "8px", "padding": "0.8em 1em",
         "background": rx.color("gray", 1)}
TOOLBAR = {"flex_wrap": "wrap", "align_items": "center", "gap": "0.6em"}
BELL = {"position": "relative", "cursor": "pointer", "color": "white"}
GRID_WRAP = {"overflow_x": "auto", "width": "100%"}

# Execution charts (issue 4): Plotly needs literal colours; the Radix scale steps they mirror are named.
CHART = {"ok": "#30a46c",  # green 9
         "warn": "#ffb224",  # amber 9
         "alert": "#e5484d",  # red 9
         "spent": "#0090ff",  # blue 9 (the theme accent is red: kept for alerts)
         "muted": "#b9bbc6",  # gray 7
         "progress": "#8b8d98",  # gray 9
         "grid": "#e8e8ec"}  # gray 4
CHART_FONT = "'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif"
