"""Model cards: Markdown rendered by markdown-it-py, then sanitised by nh3 (ammonia).

Raw HTML in a card is allowed through the Markdown renderer so tables and <details> work, and
the sanitiser is what makes it safe: scripts, event handlers, styles, iframes and javascript:
URLs are removed, so a card holding ``<script>`` renders inert.
"""

from __future__ import annotations

from markupsafe import Markup

ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
HEADING_SHIFT = 2  # the card sits under the page's h1 and a section h2: "# Title" becomes <h3>


def render_card(markdown_text: str) -> Markup:
    import nh3
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough")
    tokens = md.parse(markdown_text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + HEADING_SHIFT)}"
    html = md.renderer.render(tokens, md.options, {})
    clean = nh3.clean(html, url_schemes=ALLOWED_URL_SCHEMES, link_rel="noopener noreferrer nofollow")
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above
