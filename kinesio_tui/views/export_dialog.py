"""Export dialog: choose what (summary, a visit, a module, the patient's home-exercise sheet)
and the format, then write a file.

FHIR is the patient's whole record as data (a FHIR R4B bundle): it writes the same file
whatever report is chosen.

The export runs in a worker thread with its own connection, so a slow disk never freezes
the screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, RadioSet, Static

from kinesio_tui.data.db import connect
from kinesio_tui.errors import KinesioError
from kinesio_tui.export import ExportExists, default_export_dir, export_patient
from kinesio_tui.i18n import _
from kinesio_tui.views.db_wait import say_failed
from kinesio_tui.views.flags import ChoiceButton
from kinesio_tui.views.widgets import Confirm
from kinesio_tui.views.workstation import Workstation, workstation


class ExportDialog(ModalScreen[Path | None]):
    """Export one patient's summary, a visit, a module or their home-exercise sheet as
    Markdown or HTML, or the whole record as a FHIR bundle."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", _("Cancel")),
        Binding("ctrl+s", "export", _("Export")),
    ]

    def __init__(
        self,
        patient_id: int,
        *,
        visit_id: int | None = None,
        visit_seq: int | None = None,
        module: int | None = None,
    ) -> None:
        super().__init__()
        self.patient_id = patient_id
        self.visit_id = visit_id
        self.visit_seq = visit_seq
        self.module = module

    @property
    def kapp(self) -> Workstation:
        return workstation(self.app)

    def compose(self) -> ComposeResult:
        target = default_export_dir()
        with Vertical(id="export-box") as box:
            box.border_title = _("Export")
            with Horizontal(id="export-choices"):
                with RadioSet(id="export-kind"):
                    yield ChoiceButton(_("Patient summary"), value=True, id="kind-summary")
                    yield ChoiceButton(
                        _("Visit {seq}", seq=self.visit_seq) if self.visit_seq else _("Visit"),
                        id="kind-visit",
                        disabled=self.visit_id is None,
                    )
                    yield ChoiceButton(
                        _("Module {m}", m=self.module) if self.module else _("Module"),
                        id="kind-module",
                        disabled=self.module is None,
                    )
                    # the current module's sheet; a patient with none is told why on export
                    yield ChoiceButton(_("Home exercises"), id="kind-exercises")
                with RadioSet(id="export-format"):
                    yield ChoiceButton(_("HTML (print)"), value=True, id="fmt-html")
                    yield ChoiceButton(_("Markdown"), id="fmt-md")
                    yield ChoiceButton(_("FHIR (whole record)"), id="fmt-fhir")
            yield Static(
                _("Into {dir}", dir=target),
                id="export-target",
                markup=False,  # a folder's name is not markup
            )
            with Horizontal(id="export-buttons"):
                yield Button(
                    _("Export (Ctrl+S)"),
                    id="export",
                    variant="primary",
                    compact=True,
                )
                yield Button(_("Cancel (Esc)"), id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#export-kind", RadioSet).focus()

    def _choice(self) -> tuple[str, str]:
        kind_button = self.query_one("#export-kind", RadioSet).pressed_button
        fmt_button = self.query_one("#export-format", RadioSet).pressed_button
        kind = (
            (kind_button.id or "kind-summary").removeprefix("kind-") if kind_button else "summary"
        )
        fmt = (fmt_button.id or "fmt-html").removeprefix("fmt-") if fmt_button else "html"
        return kind, fmt

    @on(Button.Pressed, "#export")
    def export_pressed(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        """Close without exporting."""
        self.dismiss(None)

    def action_export(self, overwrite: bool = False) -> None:
        """Write the chosen export (asks before replacing an existing file)."""
        target = default_export_dir()
        kind, fmt = self._choice()
        self.query_one("#export-target", Static).update(_("Exporting…"))
        self.run_export(kind, fmt, target, overwrite)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def run_export(self, kind: str, fmt: str, out_dir: Path, overwrite: bool) -> None:
        """Write the file in a worker thread with its own connection (connections are per-thread)."""
        try:
            db = connect(self.kapp.target, actor=self.kapp.actor, create=False)
            try:
                if fmt == "fhir":
                    from kinesio_tui.export.fhir import export_fhir

                    path = export_fhir(
                        db,
                        self.patient_id,
                        out_dir=out_dir,
                        overwrite=overwrite,
                        today=self.kapp.today,
                    )
                else:
                    path = export_patient(
                        db,
                        self.patient_id,
                        kind=kind,  # type: ignore[arg-type]
                        fmt=fmt,  # type: ignore[arg-type]
                        out_dir=out_dir,
                        visit_id=self.visit_id if kind == "visit" else None,
                        module=self.module if kind == "module" else None,
                        overwrite=overwrite,
                        today=self.kapp.today,
                    )
            finally:
                db.close()
        except ExportExists as error:
            self.app.call_from_thread(self._ask_overwrite, error.path, kind, fmt, out_dir)
            return
        except KinesioError as error:
            self.app.call_from_thread(self._failed, error, out_dir)
            return
        self.app.call_from_thread(self._done, path)

    def _done(self, path: Path) -> None:
        self.app.notify(_("Written: {path}", path=path), title=_("Exported"), timeout=8)
        self.dismiss(path)

    def _ask_overwrite(self, path: Path, kind: str, fmt: str, out_dir: Path) -> None:
        self.query_one("#export-target", Static).update(_("Into {dir}", dir=out_dir))

        def answered(yes: bool | None) -> None:
            if yes:
                self.query_one("#export-target", Static).update(_("Exporting…"))
                self.run_export(kind, fmt, out_dir, True)

        self.app.push_screen(
            Confirm(_("{name} already exists in {dir}. Replace it?", name=path.name, dir=out_dir)),
            answered,
        )

    def _failed(self, error: KinesioError, out_dir: Path) -> None:
        self.query_one("#export-target", Static).update(_("Into {dir}", dir=out_dir))
        say_failed(self.app, error)
