"""The keys of the clinic's day on a planned visit (missed, cancelled, moved).

Apart from their dialogs (views/attendance.py): the patient screen's class needs its keys,
and loading the dialogs' module with it put radio buttons, tick boxes and the scheduling
domain into the warm-up behind the list (memory is a start-up target, <= 1.3x a bare app).
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

from kinesio_tui.i18n import _

#: The keys that change a planned visit, on the patient screen and the Today screen.
DAY_BINDINGS: list[BindingType] = [
    Binding(
        "m",
        "mark_missed",
        _("Missed"),
        tooltip=_("The patient did not come to this visit: mark it missed (asks why)"),
        show=False,  # hinted above the visit list: the footer has no room at 80 columns
    ),
    Binding(
        "x",
        "cancel_visit",
        _("Cancel visit"),
        tooltip=_("Call this visit off (asks why); the programme goes on"),
        show=False,
    ),
    Binding(
        "v",
        "move_visit",
        _("Move"),
        tooltip=_("Move this visit to another day and time, or the rest of the plan with it"),
        show=False,
    ),
]
#: Where the screens say those keys (their footers are full at 80 columns).
DAY_KEYS_HINT = _(" m missed · x cancelled · v move ")
DAY_ACTIONS = ("mark_missed", "cancel_visit", "move_visit")
