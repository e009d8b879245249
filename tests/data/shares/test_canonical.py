"""One page is one URL, whatever the variant."""

from __future__ import annotations

import pytest

from gadash.data.shares.canonical import canonical_url, page_url


@pytest.mark.parametrize("variant", [
    "https://blog.example.com/post/",
    "http://blog.example.com/post",
    "https://www.blog.example.com/post/",
    "HTTPS://Blog.Example.com:443/post/#comments",
    "https://blog.example.com/post/?utm_source=hn&utm_medium=social",
    "https://blog.example.com/post?fbclid=abc&gclid=x&ref=twitter",
])
def test_variants_are_one_url(variant):
    assert canonical_url(variant) == "https://blog.example.com/post/"


def test_meaningful_query_and_files_are_kept():
    assert canonical_url("https://x.org/search?q=dash&utm_campaign=a") == \
        "https://x.org/search/?q=dash"
    assert canonical_url("https://x.org/b?b=2&a=1") == "https://x.org/b/?a=1&b=2"
    assert canonical_url("https://x.org/feed.xml") == "https://x.org/feed.xml"
    assert canonical_url("https://x.org:8443/a") == "https://x.org:8443/a/"


def test_page_paths_join_the_site():
    assert page_url("https://blog.example.com", "/blog/a/") == "https://blog.example.com/blog/a/"
    assert page_url("https://example.com/base/", "/a?utm_source=x") == "https://example.com/a/"
