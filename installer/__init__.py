"""mailwiz: set up Postfix + Dovecot with plan, apply and rollback.

How a run flows (read top to bottom in ``installer/engine.py``):

1. ``answers.load()`` reads and validates the answer file (nothing changes on error).
2. ``profiles.detect()`` (or ``--profile``) picks the platform profile.
3. ``facts.gather()`` reads the target through the runner and the target root.
4. Each module in ``steps/`` (in ``steps.ORDER``) turns (profile, facts, answers)
   into a list of small reversible actions (``installer/actions.py``).  Steps
   execute nothing; they declare the packages, services, SELinux paths and
   files they need (``installer/needs.py``), from which the rest is derived.
5. ``engine.make_plan()`` simulates the actions on an in-memory view of the
   target: actions that change nothing drop out, the rest form the plan, with a
   unified diff per file and the list of commands.
6. ``engine.apply()`` runs the plan: each action is journaled before and after
   it runs (``journal.jsonl``), files are backed up before their first change
   and written atomically.  On failure it rolls back newest first.
7. ``engine.rollback()`` reverses a run from its journal alone.

The engine never imports textual; the CLI (``installer/cli.py``) and the TUI
(``installer/tui/``) are two clients of it, through ``installer/session.py``.
The layers and where a new step or platform goes: ``docs/architecture.md``.
"""

__version__ = "0.1.0"
