import pytest

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.patients import find_patients

pytestmark = pytest.mark.engines("sqlite", "postgresql")


def test_demo_has_the_three_published_cases(demo_db: ClinicDB) -> None:
    names = {p.last_name for p in find_patients(demo_db, limit=1000)}
    assert {"Petrauskas", "Žemaitė"} <= names
    assert find_patients(demo_db, "simkus")[0].last_name == "Šimkus"
