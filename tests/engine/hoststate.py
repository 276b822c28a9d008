"""The pretend host of a sandbox root (packages, services, alternatives,
firewall, SELinux, host name), for comparisons of a whole target before and
after: files are compared by treesnap, this is the rest."""
import json
import os

WORLD = "var/lib/mailwiz/sandbox/world.json"
# A package update cannot be undone: the one key a rollback leaves changed.
NOT_UNDONE = ("updates_pending",)


def host_state(root, keep_updates: bool = False) -> dict:
    with open(os.path.join(str(root), WORLD), encoding="utf-8") as handle:
        state = json.load(handle)
    if not keep_updates:
        for key in NOT_UNDONE:
            state.pop(key, None)
    return state
