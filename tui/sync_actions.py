"""Syncing from the app (`s`): a sync in a thread with a store of its own, its steps in the
header, its report in a screen."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.notifications import Notification, Notify

from store.database import Store
from store.errors import StoreError
from sync.exchange import last_merge
from tui.screens.sync_report import SyncReportScreen, report_lines

if TYPE_CHECKING:
    from tui.app import DealdeckApp


class SyncActions:
    """The app's sync (its methods run on the ``DealdeckApp``)."""

    def action_sync(self: DealdeckApp) -> None:
        config = self.store.config.sync
        if not config.folder:
            self.notify("No team folder yet: set sync.folder (and sync.transport) in config.yaml.",
                        severity="warning")
            return
        self._syncing_note = Notification(f"Syncing with the team ({config.transport})…", "", "information",
                                          self.NOTIFICATION_TIMEOUT, markup=False)
        self.post_message(Notify(self._syncing_note))  # as notify() does, keeping it to take away at the end
        self.run_sync(Path(config.folder).expanduser(), config.transport)

    def _end_syncing_note(self: DealdeckApp) -> None:
        """The sync ended (its report or its error shows): "Syncing…" is no longer true."""
        note, self._syncing_note = self._syncing_note, None
        if note is not None and note in self._notifications:
            self._unnotify(note)

    @work(thread=True, exclusive=True, group="sync")
    def run_sync(self: DealdeckApp, folder: Path, transport: str) -> None:
        """In a thread, with a Store of its own on the same folder: the file lock and
        the journal keep the two consistent exactly as for two processes."""
        from sync.exchange import export_to, join_team_settings, merge_files, sync_folder
        from sync.git import git_sync
        from sync.publish import own_paths

        lines: list[str] = []
        doubles: list[Any] = []  # the double follow-ups, which the report opens

        def progress(step: str) -> None:
            self.call_from_thread(self.show_sync_step, step)

        try:
            with Store(self.store.folder, me=self.store.me) as store:
                if transport == "git":
                    def merge() -> object:
                        report = merge_files(store, [folder], progress=progress)
                        join_team_settings(store, report)
                        lines.extend(report_lines(report, store))
                        doubles.extend(report.double_follow_ups)
                        return report

                    def publish() -> list[Path]:
                        progress("publishing")
                        lines.extend(export_to(store, folder).lines())
                        return own_paths(folder, store.replica_id)

                    progress("git: pull, merge, publish, push")
                    result = git_sync(folder, publish=publish, merge=merge, replica=store.replica_id, rep=store.me)
                    lines.extend(line for line in (result.message, result.warning) if line)
                else:
                    report, published = sync_folder(store, folder, progress)
                    lines.extend([*report_lines(report, store), *published.lines()])
                    doubles.extend(report.double_follow_ups)
        except StoreError as exc:
            self.call_from_thread(self.show_sync_step, "")
            self.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        self.call_from_thread(self._synced, lines, doubles)

    def show_sync_step(self: DealdeckApp, step: str) -> None:
        """While a sync runs, its current step shows in the header."""
        self.sync_step = step
        if not step:
            self._end_syncing_note()
        self.paint_header()  # nothing was written yet: no need to recount what is due

    def _synced(self: DealdeckApp, lines: list[str], doubles: list[Any]) -> None:
        self.sync_step = ""
        self._end_syncing_note()
        self.merged = last_merge(self.store)  # the merge is recorded even when it changed nothing
        if not self.check_other_processes():  # a merge that changed data repaints via data_changed
            self.paint_header()
        self.push_screen(SyncReportScreen("Team sync", lines, doubles,
                                          {rep.id: rep.name for rep in self.store.config.reps}))
