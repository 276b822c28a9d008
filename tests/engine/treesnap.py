"""Snapshots of a target root for "byte-identical" comparisons (content and mode)."""
import hashlib
import os
import stat

# mailwiz's own records (runs, logs, lock, the sandbox world) are not part of the target's state.
OWN = ("var/lib/mailwiz", "var/log/mailwiz")


def _own(rel: str) -> bool:
    return any(rel == own or rel.startswith(own + "/") or own.startswith(rel + "/") for own in OWN)


def snapshot(root) -> dict:
    """relative path -> (kind, mode, sha256 of content) for everything under *root*."""
    result = {}
    root = str(root)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            full = os.path.join(folder, name)
            rel = os.path.relpath(full, root)
            if _own(rel):
                continue
            st = os.lstat(full)
            if os.path.islink(full):
                result[rel] = ("link", 0, os.readlink(full))
            elif os.path.isdir(full):
                result[rel] = ("dir", st.st_mode & 0o7777, "")
            elif not stat.S_ISREG(st.st_mode):      # a FIFO, a socket: never opened
                result[rel] = ("special", st.st_mode, "")
            else:
                with open(full, "rb") as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
                result[rel] = ("file", st.st_mode & 0o7777, digest)
    return result


def differences(before: dict, after: dict) -> list:
    out = []
    for rel in sorted(set(before) | set(after)):
        if before.get(rel) != after.get(rel):
            out.append((rel, before.get(rel), after.get(rel)))
    return out
