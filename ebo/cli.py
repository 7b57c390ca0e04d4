"""Flask commands: create-user, demo, backup, restore, worker, runs recover (features register the rest, e.g.
send-reminders and proposals expire)."""

from __future__ import annotations

import importlib.util
import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from ebo import demo, demo_guard
from ebo.extensions import db
from ebo.families import cli as families_cli
from ebo.hosts import cli as hosts_cli
from ebo.permissions import ALL_ROLES
from ebo.placements import cli as placements_cli
from ebo.services import accounts, backup, runs
from ebo.worker import run_rq_worker


def init_app(app: Flask) -> None:
    """Register the commands on the app."""
    app.cli.add_command(create_user_command)
    app.cli.add_command(demo_command)
    families_cli.register(app)
    placements_cli.init_app(app)
    app.cli.add_command(hosts_cli.send_reminders_command)
    app.cli.add_command(hosts_cli.proposals_group)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(runs_group)


@click.command("create-user")
@with_appcontext
@click.option("--email", prompt=True, help="The account's email address.")
@click.option("--role", type=click.Choice([r.value for r in ALL_ROLES]), required=True)
@click.option("--name", default="", help="The person's name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
def create_user_command(email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create an account (the first admin is made this way; there are no default accounts)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(email, password, role, name, must_change_password=True)
        db.session.commit()
    except accounts.AccountError as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from None
    click.echo(f"Created {role} account {user.email}. The password must be changed at the first login.")


@click.command("demo")
@with_appcontext
@click.option("--reset", is_flag=True, help="Throw away the demo database and build it anew.")
@click.option("--no-serve", is_flag=True, help="Build the demo and print the logins, but do not serve.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--seed", default=2026, show_default=True, help="Seed of the generated municipality.")
def demo_command(reset: bool, no_serve: bool, host: str, port: int, seed: int) -> None:
    """Build the demo municipality on SQLite, print one login per role and serve it."""
    if (reason := demo_guard.refusal()) is not None:
        raise click.ClickException(reason)  # never demo accounts in a database with real data
    logins = demo.build(reset=reset, seed=seed)
    click.echo(f"\nDemo municipality ready. Log in at http://{host}:{port}/login with:")
    for role, email, password in logins:
        click.echo(f"  {role:<12} {email:<32} {password}")
    click.echo("(The passwords are new each time the demo starts.)\n")
    if not no_serve:
        # Flask ignores app.run() inside a `flask` command, so serve with Werkzeug directly.
        run_simple(host, port, current_app._get_current_object(), use_reloader=False, use_debugger=False,
                   threaded=True)


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def backup_command(path: str) -> None:
    """Write a logical backup of every table (gzip JSON lines) to PATH."""
    counts = backup.backup(path)
    click.echo(f"Backed up {sum(counts.values())} rows from {len(counts)} tables to {path}.")


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def restore_command(path: str) -> None:
    """Restore a backup into an empty database at the same schema revision (run `db upgrade` first)."""
    try:
        counts = backup.restore(path)
    except backup.BackupError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"Restored {sum(counts.values())} rows into {len(counts)} tables.")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Work matching runs from Redis (production, with EBO_REDIS_URL set)."""
    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("EBO_REDIS_URL is not set: runs use the embedded worker of the web process")
    if importlib.util.find_spec("rq") is None:
        raise click.ClickException("RQ is not installed: install the production extra "
                                   "(pip install 'ebo-host-matching[production]')")
    run_rq_worker(current_app._get_current_object(), burst=burst)


@click.group("runs")
def runs_group() -> None:
    """Matching runs: recover runs whose worker stopped."""


@runs_group.command("recover")
@with_appcontext
def runs_recover_command() -> None:
    """Mark queued or running runs whose heartbeat is older than RUN_STALE_SECONDS failed ("interrupted")."""
    n = runs.recover_interrupted_runs()
    click.echo(f"Marked {n} run(s) as interrupted.")
