"""The audit log for admins: search by family, by user or by action."""

from __future__ import annotations

from flask import render_template, request

from ebo.admin.blueprint import bp
from ebo.pagination import page_arg
from ebo.permissions import ADMIN, role_required
from ebo.services import auditlog


@bp.route("/audit")
@role_required(ADMIN)
def audit():
    """Search the audit log (opaque ids only in the URL), newest first, paginated."""
    family_text = request.args.get("family", "")[:64]
    user_text = request.args.get("user", "")[:64]
    f = auditlog.AuditFilters(family_id=auditlog.family_from_text(family_text), user_id=auditlog.parse_uuid(user_text),
                              action=request.args.get("action", "").replace("\x00", "")[:40])
    bad_family = bool(family_text.strip()) and f.family_id is None
    bad_user = bool(user_text.strip()) and f.user_id is None
    page = auditlog.search(f, page_arg())
    family_text = auditlog.family_reference(f.family_id) or family_text
    return render_template("admin/audit.html", page=page, f=f, lines=auditlog.in_words(page.items),
                           actions=auditlog.actions(), staff=auditlog.staff_users(), family_text=family_text,
                           bad_family=bad_family, bad_user=bad_user)
