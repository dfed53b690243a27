"""The questionnaire screen of a doctor's appointment: the patient's answers as marked on the
form, item by item from the keyboard, each saved as it is typed; the score, its band and its
change from the baseline appointment above them."""

from __future__ import annotations

from typing import cast

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from kinesio_tui.domain.prom_scoring import PromScore, score_questionnaire
from kinesio_tui.domain.proms import (
    PromAnswer,
    prom_answers_of,
    prom_outcomes,
    questionnaires_for_episode,
    record_prom_answer,
)
from kinesio_tui.domain.visits import get_visit
from kinesio_tui.errors import KinesioError, ProtocolError, StaleRecord
from kinesio_tui.i18n import _
from kinesio_tui.locations import config_dir
from kinesio_tui.plain_text import shown
from kinesio_tui.questionnaires import ClinicTexts, Questionnaire, load_clinic_texts, texts_file
from kinesio_tui.views.db_wait import save_patiently, say_failed
from kinesio_tui.views.footer import KeyFooter
from kinesio_tui.views.visit import VisitHost


def score_words(q: Questionnaire, score: PromScore) -> str:
    """'ODI 44.4 % · moderate disability (9 of 10 sections)', 'NDI 17/50 (34 %) · ...'."""
    if score.score is None:
        return _(
            "{short}: {answered} of {items} answered; a score needs at least {least}",
            short=q.short,
            answered=score.answered,
            items=score.items,
            least=score.items - q.max_missing,
        )
    value = f"{score.score:.1f}".rstrip("0").rstrip(".")
    if q.scoring == "percent":
        text = f"{q.short} {value} %"
    else:
        text = f"{q.short} {value}{q.unit} ({score.percent:.0f} %)"
    if score.band:
        text += f" · {score.band}"
    if score.answered < score.items:
        text += " " + _(
            "({answered} of {items} answered{prorated})",
            answered=score.answered,
            items=score.items,
            prorated=_(", prorated") if score.prorated else "",
        )
    return text


def item_prompt(
    q: Questionnaire, index: int, answer: PromAnswer | None, texts: ClinicTexts
) -> Table:
    """One item: its number, its label (or the clinic's wording), the score marked."""
    item = q.items[index]
    wording = texts.item(q.code, item.id)
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(width=3, no_wrap=True, justify="right")
    grid.add_column(ratio=1)
    grid.add_column(width=5, no_wrap=True, justify="right")
    # the clinic's file is text, never markup or a terminal control
    label = Text(shown(wording.text) if wording else item.label)
    if answer is not None and wording and wording.choices:
        label.append("\n↳ " + shown(wording.choices[answer.score]), style="italic")
    mark = Text(f"[{answer.score}]", style="bold") if answer else Text("[ ]", style="dim")
    grid.add_row(f"{index + 1}.", label, mark)
    return grid


class PromScreen(Screen[None]):
    """The questionnaires of one doctor's appointment (ODI / NDI / RMDQ as the episode's
    condition has them). Digits mark the highlighted item and move on; saved at once."""

    CSS_PATH = "visit.tcss"
    BINDINGS = [
        Binding("escape", "back", _("Back")),
        Binding("0", "mark(0)", _("Mark 0–5"), key_display="0-5"),
        *(Binding(str(n), f"mark({n})", _("Mark {n}", n=n), show=False) for n in range(1, 6)),
        Binding("delete,backspace", "mark_unanswered", _("Unanswered"), key_display="Del"),
        Binding("tab", "next_form", _("Next form"), priority=True),
    ]
    help_title = _("Questionnaires")

    def __init__(self, visit_id: int) -> None:
        super().__init__()
        self.visit_id = visit_id
        #: The questionnaires this appointment records, and which one is shown.
        self.forms: tuple[Questionnaire, ...] = ()
        self.form_index = 0
        #: The answers as shown (their versions are what a change is based on).
        self.answers: dict[str, PromAnswer] = {}
        self.texts = ClinicTexts()
        self.texts_problem = ""

    @property
    def host(self) -> VisitHost:
        return cast(VisitHost, self.app)

    @property
    def form(self) -> Questionnaire:
        return self.forms[self.form_index]

    def compose(self) -> ComposeResult:
        yield Static(markup=False, content="", id="prom-title")
        yield Static(markup=False, content="", id="prom-score")
        yield OptionList(id="prom-items")
        yield KeyFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        visit = get_visit(self.host.db, self.visit_id)
        self.forms = questionnaires_for_episode(self.host.db, visit.episode_id)
        self.episode_id = visit.episode_id
        self.seq = visit.seq
        try:
            self.texts = load_clinic_texts(texts_file(config_dir()))
        except ProtocolError as problem:  # shown, and the neutral labels used meanwhile
            self.texts_problem = problem.message
        if not self.forms:
            self.query_one("#prom-title", Static).update(
                _("No questionnaire is set for this episode's condition (questionnaires.toml).")
            )
            return
        self.show_form()
        self.query_one("#prom-items", OptionList).focus()

    def show_form(self, *, keep: int | None = None) -> None:
        """Show the current questionnaire's items, answers and score."""
        q = self.form
        self.answers = prom_answers_of(self.host.db, self.visit_id, q.code)
        title = shown(self.texts.titles.get(q.code, q.label))
        others = len(self.forms) > 1
        self.query_one("#prom-title", Static).update(
            _(
                "{title} · {n} of {count}{more}",
                title=title,
                n=self.form_index + 1,
                count=len(self.forms),
                more=_(" · Tab: next form") if others else "",
            )
            + (f"\n{self.texts_problem}" if self.texts_problem else "")
        )
        items = self.query_one("#prom-items", OptionList)
        highlighted = items.highlighted if keep is None else keep
        items.clear_options()
        items.add_options(
            Option(item_prompt(q, i, self.answers.get(item.id), self.texts), id=item.id)
            for i, item in enumerate(q.items)
        )
        items.highlighted = min(highlighted or 0, len(q.items) - 1)
        self.show_score()

    def show_score(self) -> None:
        q = self.form
        marks = {item: a.score for item, a in self.answers.items()}
        score = score_questionnaire(q, cast(dict[str, int | None], marks))
        text = Text(score_words(q, score), style="bold")
        text.append("  " + _("0–{top} per item", top=q.item_max), style="dim")
        outcome = next(
            (
                o
                for o in prom_outcomes(self.host.db, self.episode_id, upto_seq=self.seq)
                if o.questionnaire.code == q.code
            ),
            None,
        )
        if (
            outcome is not None
            and outcome.change is not None
            and outcome.results[-1].seq == self.seq
            and outcome.results[0].seq != self.seq
        ):
            change = outcome.change
            text.append("\n" + change_words(q, change.delta, change.percent))
            if change.important_worsening:
                text.append(" · " + _("! clinically important worsening"), style="bold red")
            elif change.important_improvement:
                text.append(" · " + _("✓ clinically important improvement"), style="bold green")
            else:
                text.append(" · " + _("below the MCID of {mcid}", mcid=f"{q.mcid:g}"), style="dim")
        self.query_one("#prom-score", Static).update(text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return True
        if not self.forms:
            return False
        if action == "next_form":
            return len(self.forms) > 1
        if action == "mark":
            value = parameters[0] if parameters else 0
            return isinstance(value, int) and value <= self.form.item_max
        return True

    def action_mark(self, score: int) -> None:
        """Mark the highlighted item with this score (as the patient marked it), then move on."""
        self.write_answer(score)

    def action_mark_unanswered(self) -> None:
        """The patient left the highlighted item unanswered."""
        self.write_answer(None)

    def write_answer(self, score: int | None) -> None:
        items = self.query_one("#prom-items", OptionList)
        index = items.highlighted
        if index is None:
            return
        q = self.form
        item = q.items[index].id
        shown = self.answers.get(item)
        basis = shown.version if shown else 0

        def write() -> int:
            return record_prom_answer(
                self.host.db, self.visit_id, q.code, item, score, expected_version=basis
            )

        def saved(_version: int) -> None:
            if self.is_attached and q is self.form:
                after = index + 1 if score is not None else index
                self.show_form(keep=min(after, len(q.items) - 1))

        def failed(problem: KinesioError) -> None:
            say_failed(self.app, problem)
            if isinstance(problem, StaleRecord) and self.is_attached:
                self.show_form(keep=index)  # theirs, shown; mark again to put yours over

        save_patiently(self.app, write, saved, failed)

    def action_next_form(self) -> None:
        """The next questionnaire of this appointment."""
        self.form_index = (self.form_index + 1) % len(self.forms)
        self.show_form(keep=0)

    def action_back(self) -> None:
        """Back to the doctor's appointment."""
        self.dismiss(None)


def change_words(q: Questionnaire, delta: float, percent: float | None) -> str:
    """'−12.2 points since baseline (−27 %)' in the score's units."""
    unit = _("points") if q.scoring == "percent" or q.unit.startswith("/") else q.unit
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    amount = f"{abs(delta):.1f}".rstrip("0").rstrip(".")
    beside = f" ({percent:+.0f} %)".replace("-", "−") if percent is not None else ""
    return _(
        "{sign}{amount} {unit} since baseline{beside}",
        sign=sign,
        amount=amount,
        unit=unit,
        beside=beside,
    )
