"""The printable welcome card as PDF (fpdf2 with HarfBuzz shaping): credit-card size, front and back.

Fonts: Noto Sans, Noto Sans Arabic and Noto Sans Ethiopic (Debian: fonts-noto-core), looked up in
CARD_FONT_DIR or the usual system folders. Arabic and Persian are shaped and laid out right to left.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import segno
from flask import current_app
from fpdf import FPDF

from ebo.cards.texts import card_text, direction

CARD_W, CARD_H = 85.6, 53.98  # ISO/IEC 7810 ID-1, millimetres
MARGIN = 3.0
FONT_FILES = {
    "NotoSans": ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
    "NotoSansArabic": ("NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf"),
    "NotoSansEthiopic": ("NotoSansEthiopic-Regular.ttf", "NotoSansEthiopic-Bold.ttf"),
}
FONT_DIRS = ("/usr/share/fonts/truetype/noto", "/usr/share/fonts/noto", "/usr/local/share/fonts/noto")
BRAND = (0, 84, 140)


class CardFontMissing(RuntimeError):
    """The card fonts are not installed; the message says what to install."""


@dataclass
class CardContent:
    """What goes on a card: only first name, photo, validity, number, QR and the partners."""

    language: str
    first_name: str
    valid_until: str
    number: str
    municipality: str
    verify_url: str
    photo_jpeg: bytes | None
    partners: list[tuple[str, str, str]]  # (kind, name, benefit)


def font_dir() -> Path:
    """The folder holding the Noto fonts; CardFontMissing with a clear message when there is none."""
    configured = current_app.config.get("CARD_FONT_DIR")
    candidates = [configured] if configured else list(FONT_DIRS)
    needed = [f for pair in FONT_FILES.values() for f in pair]
    for c in candidates:
        if c and all((Path(c) / f).is_file() for f in needed):
            return Path(c)
    raise CardFontMissing(
        "The card fonts (Noto Sans, Noto Sans Arabic, Noto Sans Ethiopic) were not found in "
        f"{', '.join(str(c) for c in candidates)}. Install them (Debian: apt-get install fonts-noto-core) "
        "or set CARD_FONT_DIR to a folder holding " + ", ".join(needed) + ".")


class _CardPDF(FPDF):
    """FPDF with the card's fonts, shaping and fallback fonts for Arabic and Ethiopic script."""

    def __init__(self, fonts: Path, rtl: bool) -> None:
        super().__init__(unit="mm", format=(CARD_W, CARD_H))
        self.set_auto_page_break(False)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        for family, (regular, bold) in FONT_FILES.items():
            self.add_font(family, "", str(fonts / regular))
            self.add_font(family, "B", str(fonts / bold))
        self.set_fallback_fonts(["NotoSansArabic", "NotoSansEthiopic"], exact_match=False)
        self.set_text_shaping(use_shaping_engine=True, direction="rtl" if rtl else "ltr")
        self.rtl = rtl
        self.set_title("Welcome card")
        self.set_creator("EBO")

    def text_at(self, x: float, y: float, w: float, h: float, text: str, size: float, bold: bool = False,
                align: str | None = None, color=(0, 0, 0)) -> None:
        """One line of text in a box; right-aligned by default in right-to-left languages."""
        self._font(size, bold, color)
        self.set_xy(x, y)
        self.cell(w, h, text, align=align or ("R" if self.rtl else "L"))

    def para_at(self, x: float, y: float, w: float, h: float, text: str, size: float, bold: bool = False) -> None:
        """A wrapped paragraph starting at (x, y)."""
        self._font(size, bold, (0, 0, 0))
        self.set_xy(x, y)
        self.multi_cell(w, h, text, align="R" if self.rtl else "L", new_x="LMARGIN", new_y="NEXT")

    def _font(self, size: float, bold: bool, color) -> None:
        self.set_font("NotoSans", "B" if bold else "", size)
        self.set_text_color(*color)
        # fpdf2 may wrap a line that starts in a fallback font in q/Q and then assume the main font is
        # still set on the page; naming it again explicitly keeps every later text object valid.
        self._out(self._set_font_for_page(self.current_font, self.font_size_pt))


def _qr_png(url: str) -> io.BytesIO:
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=8, border=2)
    buf.seek(0)
    return buf


def render(content: CardContent) -> bytes:
    """The card's PDF: page 1 the front, page 2 the back."""
    t = card_text(content.language)
    rtl = direction(content.language) == "rtl"
    pdf = _CardPDF(font_dir(), rtl)
    pdf.set_lang(content.language)

    # ---- front
    pdf.add_page()
    pdf.set_fill_color(*BRAND)
    pdf.rect(0, 0, CARD_W, 10, style="F")
    pdf.text_at(MARGIN, 1.5, CARD_W - 2 * MARGIN, 7, t["title"], 11, bold=True, color=(255, 255, 255))
    qr_size, photo_w, photo_h = 24.0, 20.0, 25.0
    body_top = 13.0
    qr_x = MARGIN if rtl else CARD_W - MARGIN - qr_size
    photo_x = CARD_W - MARGIN - photo_w if rtl else MARGIN
    if content.photo_jpeg:
        pdf.image(io.BytesIO(content.photo_jpeg), x=photo_x, y=body_top, w=photo_w, h=photo_h, keep_aspect_ratio=True)
        text_x0 = MARGIN + qr_size + 2 if rtl else MARGIN + photo_w + 2
        text_w = CARD_W - 2 * MARGIN - qr_size - photo_w - 4
    else:
        text_x0 = MARGIN + qr_size + 2 if rtl else MARGIN
        text_w = CARD_W - 2 * MARGIN - qr_size - 2
    pdf.image(_qr_png(content.verify_url), x=qr_x, y=body_top - 1, w=qr_size, h=qr_size)
    y = body_top
    pdf.text_at(text_x0, y, text_w, 3.5, t["first_name"], 6, color=(80, 80, 80))
    pdf.text_at(text_x0, y + 3.5, text_w, 6, content.first_name, 12, bold=True)
    pdf.text_at(text_x0, y + 11, text_w, 3.5, t["valid_until"], 6, color=(80, 80, 80))
    pdf.text_at(text_x0, y + 14.5, text_w, 4.5, content.valid_until, 9, bold=True)
    pdf.text_at(text_x0, y + 20, text_w, 3.5, t["card_number"], 6, color=(80, 80, 80))
    pdf.text_at(text_x0, y + 23.5, text_w, 4.5, content.number, 9, bold=True)
    if content.municipality:
        pdf.text_at(MARGIN, CARD_H - 7, CARD_W - 2 * MARGIN, 4, content.municipality, 7, color=BRAND)

    # ---- back
    pdf.add_page()
    w = CARD_W - 2 * MARGIN
    pdf.text_at(MARGIN, MARGIN, w, 4.5, t["access"], 8, bold=True, color=BRAND)
    pdf.set_y(MARGIN + 5)
    lines = [f"{t.get(kind, t['other'])}: {name}" + (f" – {benefit}" if benefit else "")
             for kind, name, benefit in content.partners[:6]] or [t["no_partners"]]
    for line in lines:
        if pdf.get_y() > CARD_H - 16:
            break
        pdf.para_at(MARGIN, pdf.get_y(), w, 3.2, line, 6.5)
    pdf.para_at(MARGIN, CARD_H - 14, w, 3.2, t["not_id"], 6, bold=True)
    pdf.para_at(MARGIN, CARD_H - 10.5, w, 3.2, t["scan"], 6)
    pdf.para_at(MARGIN, CARD_H - 7, w, 3.2, t["found"], 6)
    return bytes(pdf.output())
