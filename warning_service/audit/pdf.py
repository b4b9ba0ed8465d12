"""Reports as PDF. WeasyPrint lays text out with Pango and HarfBuzz, which stack Tibetan consonants
and vowel signs as the font's shaping rules say; the fonts are the system's (fontconfig): Noto Serif
Tibetan (Debian fonts-noto-core) and WenQuanYi Micro Hei (fonts-wqy-microhei), embedded in the file.
"""
from __future__ import annotations


def html_to_pdf(html: str) -> bytes:
    """The self-contained report page (style and SVG chart inline) as PDF. Nothing is fetched, so no
    text that came in an alert can make the server open a file or a URL. WeasyPrint is imported here,
    not with the app: it loads Debian's Pango when imported, and the console runs without it."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=())).write_pdf()
