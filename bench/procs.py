"""Processes the benchmark starts: spawn pinned to a CPU, wait until ready, read /proc, stop by PID.

Every process is started in its own session (so a Ctrl-C in the terminal reaches only the
harness) and recorded in a ``ProcessSet``, which stops each one by PID when it is closed, on
success, error or interrupt alike.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

CLOCK_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
# Niceness for everything the benchmark starts (0 = leave alone). On a shared machine a negative
# value keeps other people's processes from taking the pinned CPUs mid-run; it needs root.
PRIORITY = {"nice": 0}


def pinned(argv: Sequence[str], cpu: int | None) -> list[str]:
    """``argv`` pinned to ``cpu`` and at the run's niceness; nice and taskset exec, so the PID
    of the spawned process is the command's own."""
    full = list(argv)
    if cpu is not None:
        full = ["taskset", "-c", str(cpu), *full]
    if PRIORITY["nice"]:
        full = ["nice", "-n", str(PRIORITY["nice"]), *full]
    return full


class ProcessFailed(RuntimeError):
    """A process exited early or never became ready."""


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class ProcessSet:
    """Owns started processes; ``close()`` (or leaving the ``with``) stops all of them."""

    def __init__(self) -> None:
        self._procs: list[Proc] = []

    def __enter__(self) -> ProcessSet:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        cpu: int | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Proc:
        full = pinned(argv, cpu)
        with log_path.open("ab") as log:
            popen = subprocess.Popen(
                full,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
            )
        proc = Proc(name, popen, log_path)
        self._procs.append(proc)
        return proc

    def stop(self, proc: Proc, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``; always reaps the process."""
        if proc.popen.poll() is None:
            proc.popen.send_signal(signal.SIGTERM)
            try:
                proc.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(timeout)
        if proc in self._procs:
            self._procs.remove(proc)

    def close(self) -> None:
        for proc in reversed(list(self._procs)):
            self.stop(proc)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_status(url: str, timeout: float = 1.0) -> int | None:
    """The status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, urllib.error.URLError):
        return None


def wait_ready(proc: Proc, url: str, *, want: int | None = None, timeout: float = 30.0) -> float:
    """Poll ``url`` until it answers (with ``want``, if given); returns the seconds it took."""
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise ProcessFailed(f"{proc.name} exited ({proc.popen.returncode}):\n{proc.log_tail()}")
        status = http_status(url, timeout=0.5)
        if status is not None and (want is None or status == want):
            return time.monotonic() - started
        time.sleep(0.005)
    raise ProcessFailed(f"{proc.name} not ready at {url} after {timeout}s:\n{proc.log_tail()}")


def _parent_pids() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rpartition(")")[2].split()[1])
    return parents


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (nginx: master and worker)."""
    parents = _parent_pids()
    tree = [pid]
    for member in tree:
        tree.extend(child for child, parent in parents.items() if parent == member)
    return tree


def cpu_seconds(pids: Sequence[int]) -> float:
    """utime + stime of the processes (all their threads), from /proc/<pid>/stat."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)
    return ticks / CLOCK_TICKS_PER_SECOND


def status_kib(pids: Sequence[int], field: str) -> int:
    """Sum of a /proc/<pid>/status memory field (VmRSS, VmHWM) in KiB."""
    total = 0
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            if line.startswith(field + ":"):
                total += int(line.split()[1])
    return total


def reset_peak_rss(pids: Sequence[int]) -> bool:
    """Reset VmHWM to the current RSS (proc(5) clear_refs "5"); False if not permitted."""
    ok = True
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            ok = False
    return ok


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def cpu_times(cpu: int) -> tuple[float, float]:
    """(user+nice+system, steal) seconds so far on one CPU, from /proc/stat."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{cpu} "):
            ticks = [int(v) for v in line.split()[1:]]
            return (ticks[0] + ticks[1] + ticks[2]) / CLOCK_TICKS_PER_SECOND, (
                ticks[7] / CLOCK_TICKS_PER_SECOND
            )
    raise ValueError(f"no cpu{cpu} in /proc/stat")
