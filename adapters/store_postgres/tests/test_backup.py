"""`hod backup` and `hod restore` on PostgreSQL name its own tools, changing nothing."""

from __future__ import annotations

import pytest

from hod_core import StoreError


def test_backup_and_restore_name_pg_dump_and_pg_restore(open_store, router, tmp_path):
    store = open_store()
    backup = tmp_path / "hod.dump"
    with pytest.raises(StoreError, match=r"^store_postgres: back up with pg_dump: pg_dump "):
        store.hod_store_backup(path=str(backup))
    with pytest.raises(StoreError, match=r"^store_postgres: restore with pg_restore: "):
        store.hod_store_restore(path=str(backup), force=False)
    assert not backup.exists()
    assert len(router.agents()) == 40
