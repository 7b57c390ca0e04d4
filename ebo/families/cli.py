"""Flask commands: import-schools, import-families, import-addresses (all or nothing, errors listed)."""

from __future__ import annotations

import click
import flask_babel
from flask import Flask, current_app

from ebo.extensions import db
from ebo.services import imports


def _run(kind: str, path: str) -> None:
    with flask_babel.force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "sv")):
        _import(kind, path)


def _import(kind: str, path: str) -> None:

    with open(path, "rb") as fh:
        data = fh.read()
    func = {"schools": imports.import_schools, "families": imports.import_families,
            "addresses": imports.import_addresses}[kind]
    result = func(data, None, max_rows=500_000) if kind == "addresses" else func(data, None)
    if not result.ok:
        db.session.rollback()
        for e in result.errors:
            click.echo(f"line {e.line}{' [' + e.column + ']' if e.column else ''}: {e.message}", err=True)
        raise click.ClickException(f"{len(result.errors)} error(s); nothing was imported.")
    db.session.commit()
    extra = f", {result.persons} persons" if kind == "families" else ""
    click.echo(f"Imported {kind}: {result.created} added, {result.updated} updated{extra}.")


@click.command("import-schools")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_schools_command(path: str) -> None:
    """Import a CSV export of Skolverket's school-unit register (known codes are updated)."""
    _run("schools", path)


@click.command("import-families")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_families_command(path: str) -> None:
    """Import families from a CSV with one row per person, grouped by the family key."""
    _run("families", path)


@click.command("import-addresses")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_addresses_command(path: str) -> None:
    """Import address points (postal code, street, town, coordinates) for the offline geocoder."""
    _run("addresses", path)


def register(app: Flask) -> None:
    """Add the import commands to the app."""
    for command in (import_schools_command, import_families_command, import_addresses_command):
        app.cli.add_command(command)
