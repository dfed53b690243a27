"""Forms: a new (or changed) patient, and opening an episode of care with its red-flag screen.

Every field is checked before anything is written; each message appears under its field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, SelectionList, Static

from kinesio_tui.domain import validate as v
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient, Patient
from kinesio_tui.domain.patients import SEXES, create_patient, get_patient, update_patient
from kinesio_tui.domain.referrer import MAX_INSTITUTION, MAX_REFERRER, checked_referrer
from kinesio_tui.errors import KinesioError, StaleRecord, ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import shown
from kinesio_tui.protocol import protocol
from kinesio_tui.views.db_wait import say_failed
from kinesio_tui.views.flags import FlagList
from kinesio_tui.views.footer import KeyFooter
from kinesio_tui.views.workstation import Workstation, workstation

#: The episode's side as the form offers it (label, code).
SIDE_CHOICES = [(_("left"), "L"), (_("right"), "R"), (_("both"), "both")]


def chosen(field: str, value: str, choices: list[tuple[str, str]]) -> str:
    """A list's choice, or a message naming the choices as the list shows them."""
    if value in (code for _label, code in choices):
        return value
    labels = [label for label, _code in choices]
    words = ", ".join(labels[:-1]) + _(" or ") + labels[-1] if len(labels) > 1 else labels[0]
    raise ValidationError(field, _("should be chosen: {choices}", choices=words))


def field_row(label: str, widget: Widget, name: str) -> ComposeResult:
    """A label, the input, and the (hidden until needed) message under it."""
    with Horizontal(classes="field", id=f"row-{name}"):
        yield Label(label, classes="field-label")
        yield widget
    yield Static("", classes="field-error", id=f"error-{name}", markup=False)


class FormScreen(Screen[int | None]):
    """Shared behaviour: Ctrl+S saves, Escape cancels, messages under fields."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # not priority: keys typed just before Ctrl+S must reach the field first
        Binding("ctrl+s", "save", _("Save")),
        Binding("escape", "cancel", _("Cancel")),
    ]
    #: Domain field names (as in ValidationError.field) -> widget ids.
    FIELDS: ClassVar[dict[str, str]] = {}

    @property
    def kapp(self) -> Workstation:
        return workstation(self.app)

    def clear_errors(self) -> None:
        for error in self.query(".field-error"):
            cast(Static, error).update("")
            error.display = False
        for row in self.query(".field"):
            row.remove_class("-invalid")

    def show_error(self, field: str, message: str) -> None:
        """Put `message` under `field` (domain name), or notify if the form has no such field."""
        name = self.FIELDS.get(field)
        if name is None:
            self.notify(message, title=_("Invalid input"), severity="error")
            return
        error = self.query_one(f"#error-{name}", Static)
        error.update(f"↑ {_(field).capitalize()} {message}")
        error.display = True
        self.query_one(f"#row-{name}").add_class("-invalid")

    def check(self, checks: list[tuple[str, Callable[[], object]]]) -> bool:
        """Run each field's rule; show every message at once. True when all pass."""
        self.clear_errors()
        ok = True
        first: str | None = None
        for _field, rule in checks:
            try:
                rule()
            except ValidationError as error:
                self.show_error(error.field, error.reason)
                ok = False
                first = first or self.FIELDS.get(error.field)
        if first:
            self.query_one(f"#{first}").focus()
        return ok

    def value(self, name: str) -> str:
        return self.query_one(f"#{name}", Input).value

    def action_cancel(self) -> None:
        """Leave without saving."""
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.action_cancel()

    def action_save(self) -> None:
        raise NotImplementedError


class PatientForm(FormScreen):
    """New patient (or changing one): Ctrl+S saves.

    Controls an older version stored show as U+FFFD in the fields (visible, and saved as
    such), not as invisible characters that validation would then refuse.
    """

    help_title = _("Patient details")

    FIELDS: ClassVar[dict[str, str]] = {
        "first name": "first-name",
        "last name": "last-name",
        "birth date": "birth-date",
        "sex": "sex",
        "phone": "phone",
        "occupation": "occupation",
        "notes": "notes",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "put_back", _("Put mine back")),
    ]

    def __init__(self, patient: Patient | None = None) -> None:
        super().__init__()
        self.patient = patient
        #: Field id -> what I typed there before another terminal's save replaced it.
        self.kept: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        p = self.patient
        title = _("Change details: {name}", name=p.full_name) if p else _("New patient")
        yield Static(title, classes="form-title", markup=False)
        with VerticalScroll(classes="form"):
            yield from field_row(
                _("First name"),
                Input(shown(p.first_name) if p else "", id="first-name", compact=True),
                "first-name",
            )
            yield from field_row(
                _("Last name"),
                Input(shown(p.last_name) if p else "", id="last-name", compact=True),
                "last-name",
            )
            yield from field_row(
                _("Birth date"),
                Input(
                    p.birth_date.isoformat() if p else "",
                    placeholder="YYYY-MM-DD",
                    id="birth-date",
                    compact=True,
                ),
                "birth-date",
            )
            yield from field_row(
                _("Sex"),
                Select(
                    [(_(s), s) for s in SEXES],
                    value=p.sex if p else Select.NULL,
                    prompt=_("choose F / M / X"),
                    id="sex",
                    compact=True,
                ),
                "sex",
            )
            yield from field_row(
                _("Phone"), Input(shown(p.phone) if p else "", id="phone", compact=True), "phone"
            )
            yield from field_row(
                _("Occupation"),
                Input(
                    shown(p.occupation) if p else "",
                    placeholder=_("and daily posture, e.g. driver"),
                    id="occupation",
                    compact=True,
                ),
                "occupation",
            )
            yield from field_row(
                _("Notes"), Input(shown(p.notes) if p else "", id="notes", compact=True), "notes"
            )
            with Horizontal(classes="form-buttons"):
                yield Button(_("Save (Ctrl+S)"), id="save", variant="primary", compact=True)
                yield Button(_("Cancel (Esc)"), id="cancel", compact=True)
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.clear_errors()
        self.query_one("#first-name", Input).focus()

    def _data(self) -> NewPatient:
        sex = self.query_one("#sex", Select).value
        return NewPatient(
            first_name=self.value("first-name"),
            last_name=self.value("last-name"),
            birth_date=self.value("birth-date"),
            sex=sex if isinstance(sex, str) else "",
            phone=self.value("phone"),
            occupation=self.value("occupation"),
            notes=self.value("notes"),
        )

    def action_save(self) -> None:
        """Check every field, then write the patient in one transaction."""
        data = self._data()
        today = self.kapp.today
        ok = self.check(
            [
                ("first name", lambda: v.required_text("first name", data.first_name)),
                ("last name", lambda: v.required_text("last name", data.last_name)),
                ("birth date", lambda: v.past_date("birth date", data.birth_date, today)),
                ("sex", lambda: v.one_of("sex", data.sex, SEXES)),
                ("phone", lambda: v.phone("phone", data.phone)),
                (
                    "occupation",
                    lambda: v.bounded_text("occupation", data.occupation, max_len=v.MAX_NAME),
                ),
                ("notes", lambda: v.bounded_text("notes", data.notes)),
            ]
        )
        if not ok:
            return
        db = self.kapp.db
        try:
            if self.patient is None:
                patient_id = create_patient(db, data, today=today)
                self.notify(_("Patient added. Now the episode of care."))
            else:
                patient_id = self.patient.id
                update_patient(
                    db, patient_id, data, expected_version=self.patient.version, today=today
                )
                self.notify(_("Details saved."))
        except StaleRecord:
            self._reload()
            return
        except ValidationError as error:
            self.show_error(error.field, error.reason)
            return
        except KinesioError as error:
            say_failed(self.app, error)
            return
        self.dismiss(patient_id)

    def _reload(self) -> None:
        """Someone else saved the patient first: nothing of mine was written. Merge what
        they saved into the form, losing nothing typed: a field only they changed shows
        theirs, a field only I changed keeps mine, and a field we both changed shows theirs
        with mine kept under it (Ctrl+R puts it back). The next save is based on theirs."""
        assert self.patient is not None
        mine = self._typed()
        base = shown_values(self.patient)
        self.patient = get_patient(self.kapp.db, self.patient.id)
        theirs = shown_values(self.patient)
        self.kept = {}
        for name, their_value in theirs.items():
            if their_value == base[name] or their_value == mine[name]:
                continue  # they did not touch it, or we agree
            if mine[name] != base[name]:
                self.kept[name] = mine[name]
            self._put(name, their_value)
        self.clear_errors()
        self.refresh_bindings()
        self.notify(
            _(
                "These details were changed elsewhere; nothing was saved. Theirs are shown; "
                "yours is kept under each field you both changed (Ctrl+R)."
            ),
            title=_("Changed elsewhere"),
            severity="warning",
            markup=False,
        )

    def _typed(self) -> dict[str, str]:
        """What the form's fields hold now, as `shown_values` spells a patient."""
        typed = {name: self.value(name) for name in TEXT_FIELDS}
        sex = self.query_one("#sex", Select).value
        typed["sex"] = sex if isinstance(sex, str) else ""
        return typed

    def _put(self, name: str, value: str) -> None:
        if name == "sex":
            self.query_one("#sex", Select).value = value or Select.NULL
        else:
            field = self.query_one(f"#{name}", Input)
            field.value = value
            field.cursor_position = len(value)

    def clear_errors(self) -> None:
        """Hide the rules' messages; what was kept from a refused save stays shown."""
        super().clear_errors()
        for name, value in self.kept.items():
            line = self.query_one(f"#error-{name}", Static)
            yours = _(value) if name == "sex" else shown(value)
            line.update(
                _(
                    "↑ Changed elsewhere to what the field shows. Yours: {yours} "
                    "(Ctrl+R puts it back)",
                    yours=yours or _("(empty)"),
                )
            )
            line.display = True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "put_back":
            return bool(self.kept)
        return True

    def action_put_back(self) -> None:
        """Ctrl+R: put back what I typed wherever another terminal's save replaced it."""
        if not self.kept:
            self.notify(_("Nothing of yours to put back."), markup=False)
            return
        kept, self.kept = self.kept, {}
        for name, value in kept.items():
            self._put(name, value)
        self.clear_errors()
        self.refresh_bindings()


def shown_values(patient: Patient) -> dict[str, str]:
    """A patient's details as the form's fields show them (field id -> text)."""
    return {
        "first-name": shown(patient.first_name),
        "last-name": shown(patient.last_name),
        "birth-date": patient.birth_date.isoformat(),
        "sex": patient.sex,
        "phone": shown(patient.phone),
        "occupation": shown(patient.occupation),
        "notes": shown(patient.notes),
    }


#: The details form's text fields (the sex is a list).
TEXT_FIELDS = ("first-name", "last-name", "birth-date", "phone", "occupation", "notes")


class EpisodeForm(FormScreen):
    """Open an episode of care: condition, side, course, medication and the red-flag screen."""

    help_title = _("Open an episode")

    FIELDS: ClassVar[dict[str, str]] = {
        "condition": "condition",
        "subtype": "subtype",
        "side": "side",
        "course": "course",
        "onset date": "onset",
        "pain medication": "medication",
        "referring doctor": "referrer",
        "institution": "referrer-institution",
        "red flags": "flags",
    }

    def __init__(self, patient_id: int) -> None:
        super().__init__()
        self.patient_id = patient_id

    def compose(self) -> ComposeResult:
        proto = protocol()
        patient = get_patient(self.kapp.db, self.patient_id)
        yield Static(
            _("Open an episode of care: {name}", name=patient.full_name),
            classes="form-title",
            markup=False,
        )
        with VerticalScroll(classes="form"):
            yield from field_row(
                _("Condition"),
                Select(
                    [(c.label, c.code) for c in proto.conditions],
                    prompt=_("choose"),
                    id="condition",
                    compact=True,
                ),
                "condition",
            )
            yield from field_row(
                _("Subtype"),
                Select([], prompt=_("choose the condition first"), id="subtype", compact=True),
                "subtype",
            )
            yield from field_row(
                _("Side"),
                Select(
                    SIDE_CHOICES,
                    prompt=_("choose"),
                    id="side",
                    compact=True,
                ),
                "side",
            )
            yield from field_row(
                _("Course"),
                Select(
                    [(_("acute"), "acute"), (_("chronic"), "chronic")],
                    value="acute",
                    allow_blank=False,
                    id="course",
                    compact=True,
                ),
                "course",
            )
            yield from field_row(
                _("Onset"), Input(placeholder="YYYY-MM-DD", id="onset", compact=True), "onset"
            )
            yield from field_row(
                _("Pain medication"),
                Input(placeholder=_("none"), id="medication", compact=True),
                "medication",
            )
            yield from field_row(
                _("Referred by"),
                Input(
                    placeholder=_("referring doctor (the discharge letter's addressee)"),
                    id="referrer",
                    max_length=MAX_REFERRER,
                    compact=True,
                ),
                "referrer",
            )
            yield from field_row(
                _("Institution"),
                Input(
                    placeholder=_("where they work (optional)"),
                    id="referrer-institution",
                    max_length=MAX_INSTITUTION,
                    compact=True,
                ),
                "referrer-institution",
            )
            flags = FlagList(*[(f.label, f.code) for f in proto.red_flags], id="flags")
            flags.border_title = _("Red flags (Space ticks; any one: refer to a doctor now)")
            yield flags
            yield Static(_("Red flags raised: none"), id="flags-raised")
            yield Static("", classes="field-error", id="error-flags", markup=False)
            with Horizontal(classes="form-buttons"):
                yield Button(_("Open episode (Ctrl+S)"), id="save", variant="primary", compact=True)
                yield Button(_("Later (Esc)"), id="cancel", compact=True)
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.clear_errors()
        self.query_one("#condition", Select).focus()

    @on(Select.Changed, "#condition")
    def condition_changed(self, event: Select.Changed) -> None:
        """Offer the subtypes of the chosen condition."""
        condition = protocol().condition(str(event.value)) if event.value != Select.NULL else None
        subtype = self.query_one("#subtype", Select)
        subtype.set_options([(s.label, s.code) for s in condition.subtypes] if condition else [])

    @on(SelectionList.SelectedChanged, "#flags")
    def flags_changed(self) -> None:
        """Say in words which flags are ticked, under the list as well."""
        proto = protocol()
        chosen = self.query_one("#flags", SelectionList).selected
        raised = self.query_one("#flags-raised", Static)
        labels = [f.label for f in proto.red_flags if f.code in chosen]
        raised.set_class(bool(labels), "-raised")
        raised.update(
            _("⚠ Red flags raised: {flags}. Refer to a doctor now.", flags="; ".join(labels))
            if labels
            else _("Red flags raised: none")
        )

    def _select(self, name: str) -> str:
        value = self.query_one(f"#{name}", Select).value
        return value if isinstance(value, str) else ""

    def action_save(self) -> None:
        """Check the fields, then open the episode (which plans its visits)."""
        today = self.kapp.today
        data = NewEpisode(
            condition=self._select("condition"),
            subtype=self._select("subtype"),
            side=self._select("side"),
            course=self._select("course"),
            onset_date=self.value("onset").strip() or None,
            pain_medication=self.value("medication"),
            red_flags=tuple(self.query_one("#flags", SelectionList).selected),
            referring_doctor=self.value("referrer"),
            referring_institution=self.value("referrer-institution"),
        )
        proto = protocol()
        condition = proto.condition(data.condition)
        subtypes = [(s.label, s.code) for s in condition.subtypes] if condition else []
        # without a condition there is no list of subtypes to choose from: the condition's
        # message says what to do first
        subtype_rule: list[tuple[str, Callable[[], object]]] = (
            [("subtype", lambda: chosen("subtype", data.subtype, subtypes))] if subtypes else []
        )
        conditions = [(c.label, c.code) for c in proto.conditions]
        ok = self.check(
            [
                ("condition", lambda: chosen("condition", data.condition, conditions)),
                *subtype_rule,
                ("side", lambda: chosen("side", data.side, SIDE_CHOICES)),
                (
                    "onset date",
                    lambda: data.onset_date and v.past_date("onset date", data.onset_date, today),
                ),
                (
                    "pain medication",
                    lambda: v.bounded_text("pain medication", data.pain_medication, max_len=200),
                ),
                (
                    "referring doctor",
                    lambda: checked_referrer(data.referring_doctor, data.referring_institution),
                ),
            ]
        )
        if not ok:
            return
        try:
            episode_id = open_episode(self.kapp.db, self.patient_id, data, today=today)
        except ValidationError as error:
            self.show_error(error.field, error.reason)
            return
        except KinesioError as error:
            say_failed(self.app, error)
            return
        if data.red_flags:
            self.notify(
                _("Red flag raised: refer the patient to a doctor now."),
                title=_("Red flag"),
                severity="error",
                timeout=10,
            )
        else:
            self.notify(_("Episode opened: {n} visits planned.", n=proto.total_visits))
        self.dismiss(episode_id)
