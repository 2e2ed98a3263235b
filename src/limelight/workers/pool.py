"""The local worker pool that `limelight serve` starts: N `limelight worker` processes, restarted if they die."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading

from limelight.config import Settings
from limelight.workers import lifeline

log = logging.getLogger("limelight.worker")


def _die_with_parent() -> None:
    """Linux: the worker gets SIGTERM when `serve` dies, even by SIGKILL, so none is orphaned."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class WorkerPool:
    def __init__(self, settings: Settings) -> None:
        self.size = settings.worker.processes
        self._processes: list[subprocess.Popen[bytes]] = []
        self._lifelines: dict[int, int] = {}  # worker pid -> the write end only this process holds
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None

    def start(self) -> None:
        self._processes = [self._spawn() for _ in range(self.size)]
        if self.size:
            self._monitor = threading.Thread(target=self._watch, name="worker-pool", daemon=True)
            self._monitor.start()

    def _spawn(self) -> subprocess.Popen[bytes]:
        read_end, write_end = os.pipe()  # the child gets the read end via pass_fds
        env = dict(os.environ, **{lifeline.ENV: str(read_end)})
        try:
            process = subprocess.Popen([sys.executable, "-m", "limelight.cli.main", "worker"], env=env,
                                       pass_fds=(read_end,), preexec_fn=_die_with_parent)
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        self._lifelines[process.pid] = write_end
        return process

    def _release(self, process: subprocess.Popen[bytes]) -> None:
        write_end = self._lifelines.pop(process.pid, None)
        if write_end is not None:
            os.close(write_end)

    def _watch(self) -> None:
        while not self._stopping.wait(1.0):
            for i, process in enumerate(self._processes):
                if process.poll() is not None and not self._stopping.is_set():
                    log.warning("job worker %s exited with %s; restarting", process.pid, process.returncode)
                    self._release(process)
                    self._processes[i] = self._spawn()

    def pids(self) -> list[int]:
        return [p.pid for p in self._processes if p.poll() is None]

    def stop(self, timeout_s: float = 10) -> None:
        self._stopping.set()
        for process in self._processes:
            if process.poll() is None:
                process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
            self._release(process)
