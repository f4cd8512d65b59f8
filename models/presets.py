"""Named selector sets for the CMSs small German municipalities run: `preset = "typo3-news"`.

Each preset targets the markup the system's stock templates emit (the list view, its pager,
the detail view); a `[source.selectors]` table next to a preset overrides it key by key, and
an empty string drops a preset's selector. Alternatives in one selector are comma-separated:
the first match in document order counts for links and dates. `item_kind` is the kind a
preset's items are when the page does not say.
"""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    # TYPO3 with tx_news (georgringer/news), Fluid templates List/Item.html and Detail.html,
    # versions 7 to 12: `div.news-list-view > div.article` items with `div.header h3 a`,
    # `span.news-list-date time[datetime]` (older templates: the date as text), teaser in
    # `div.teaser-text`; the pager is `ul.f3-widget-paginator li.next a` (or Bootstrap's
    # `ul.pagination`), the detail text `div.news-text-wrap` (itemprop articleBody).
    "typo3-news": {
        "selectors": {
            "item": ".news-list-view .article, .news-list-view .news-list-item",
            "title": "h3, h2, .news-list-header",
            "link": ".header a::attr(href), h3 a::attr(href), h2 a::attr(href),"
                    " a.more::attr(href), a::attr(href)",
            "date": "time::attr(datetime), .news-list-date::text",
            # The teaser without the "mehr" link that shares its div.
            "summary": "[itemprop=description], .teaser-text p",
            "content": ".news-text-wrap",
            "next": ".f3-widget-paginator li.next a::attr(href),"
                    " .page-navigation li.next a::attr(href),"
                    " ul.pagination li.next a::attr(href), a[rel=next]::attr(href)",
        },
    },
    # WordPress posts archives (blog, category and tag pages) as the classic themes emit
    # them — `article.post` with `h2.entry-title a` and `time.entry-date` — and the block
    # themes' Query Loop (`li.wp-block-post`, `.wp-block-post-title`, `.wp-block-post-date`).
    # Older posts: `a.next.page-numbers` (the_posts_pagination), `.nav-previous a`
    # (the_posts_navigation, "Ältere Beiträge"), `.wp-block-query-pagination-next`.
    "wordpress": {
        "selectors": {
            "item": "article.post, article.type-post, li.wp-block-post",
            "title": ".entry-title, .wp-block-post-title, h2, h3",
            "link": ".entry-title a::attr(href), .wp-block-post-title a::attr(href),"
                    " a[rel=bookmark]::attr(href)",
            "date": "time.entry-date::attr(datetime), time::attr(datetime)",
            "summary": ".entry-summary, .wp-block-post-excerpt, .entry-content",
            "content": ".entry-content, .wp-block-post-content",
            "next": "a.next.page-numbers::attr(href), .nav-previous a::attr(href),"
                    " a.wp-block-query-pagination-next::attr(href)",
        },
    },
    # WordPress with The Events Calendar (Modern Tribe / StellarWP). The list view of v5/v6
    # ("tribe-events-calendar-list__event" articles, title link, `time` with the start date
    # and a datetime text "1. Juni 2024 @ 10:00 - 12:00", `address` venue, pager
    # `.tribe-events-c-nav__next`) and the legacy v4 views (`.type-tribe_events` with
    # `.tribe-event-schedule-details`, `.tribe-events-venue-details`, `.tribe-events-nav-next`).
    # Single events: `.tribe-events-single-event-description`, `.tribe-events-schedule`.
    "wordpress-events": {
        "item_kind": "event",
        "selectors": {
            "item": ".tribe-events-calendar-list__event, .tribe-events-loop .type-tribe_events",
            "title": ".tribe-events-calendar-list__event-title, .tribe-events-list-event-title,"
                     " h3, h2",
            "link": ".tribe-events-calendar-list__event-title a::attr(href),"
                    " .tribe-events-list-event-title a::attr(href), a.tribe-event-url::attr(href),"
                    " a[rel=bookmark]::attr(href)",
            "date": "time.tribe-events-calendar-list__event-datetime::attr(datetime),"
                    " .tribe-event-date-start::text",
            "when": ".tribe-events-calendar-list__event-datetime, .tribe-event-schedule-details,"
                    " .tribe-events-schedule",
            # The venue's name: its address spans run together in the element's text.
            "location": ".tribe-events-calendar-list__event-venue-title,"
                        " .tribe-events-venue-details",
            "summary": ".tribe-events-calendar-list__event-description,"
                       " .tribe-events-list-event-description",
            "content": ".tribe-events-single-event-description",
            "next": "a.tribe-events-c-nav__next::attr(href),"
                    " .tribe-events-nav-next a::attr(href)",
        },
    },
    # Joomla category blog layout (com_content, layout=blog): Joomla 3 (Protostar) puts items
    # in `.items-leading > div` and `.items-row .item`, Joomla 4/5 (Cassiopeia) in
    # `.blog-item`; both mark them itemprop="blogPost" with `.page-header h2 a` (itemprop
    # url), `dd.published time[itemprop=datePublished]`. Pager: J3 `li.pagination-next a`,
    # J4 `a.page-link` labelled "Gehe zur nächsten Seite"/"Go to next page"; detail text in
    # `[itemprop=articleBody]`.
    "joomla-blog": {
        "selectors": {
            "item": ".blog [itemprop=blogPost], .blog .items-row .item, .blog .blog-item",
            "title": ".page-header h2, [itemprop=name], h2",
            "link": ".page-header h2 a::attr(href), h2 a::attr(href),"
                    " a[itemprop=url]::attr(href), .readmore a::attr(href)",
            "date": "time[itemprop=datePublished]::attr(datetime),"
                    " dd.published time::attr(datetime), dd.published::text",
            "summary": ".item-content > p, [itemprop=blogPost] > p, .item > p",
            "content": "[itemprop=articleBody]",
            "next": "li.pagination-next a::attr(href),"
                    " a[aria-label='Gehe zur nächsten Seite']::attr(href),"
                    " a[aria-label='Go to next page']::attr(href), a[rel=next]::attr(href)",
        },
    },
}


def preset_names() -> list[str]:
    """Return the known preset names, sorted."""
    return sorted(PRESETS)
