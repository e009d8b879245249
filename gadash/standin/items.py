"""The shop's e-commerce items: a product catalogue and item rows derived from its events.

GA counts items where the events carry an ``items`` array: here ``view_item`` (the
product of the page, one unit), ``add_to_cart`` (the product page the session saw last
before the cart, one to three units) and ``purchase`` (that cart's product and up to
two more, the purchase's value shared out by list price, so a purchase's item revenue
adds up to its revenue to the cent). Nothing is stored by the generator: the rows are
derived from the existing events on first use (``items_of``), and what the events do
not say (units, the other products of a basket) comes from a hash of the user id and
the event's local time with its own salt, so it neither changes nor consumes any of
the generator's random draws, and a day's items never change when the window moves.
The blog and the news site send no items (the news site's subscription purchases have
none), so their item rows are empty, as in a GA property without e-commerce.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gadash.standin.traffic import (
    _PRODUCTS,
    EV,
    SHOP_FIRST_PRODUCT,
    FloatArray,
    Int32Array,
    IntArray,
    SmallArray,
    Traffic,
    _hashes,
    _unit,
)

# slug -> (category, subcategory, brand, list price in EUR)
_CATALOGUE: dict[str, tuple[str, str, str, float]] = {
    "alpine-wool-beanie": ("Accessories", "Hats", "Northfold", 29.0),
    "trail-runner-shoes": ("Footwear", "Running shoes", "Ridgeline", 129.0),
    "canvas-tote-bag": ("Bags", "Totes", "Demo Basics", 24.0),
    "merino-crew-socks": ("Apparel", "Socks", "Northfold", 18.0),
    "rain-shell-jacket": ("Apparel", "Jackets", "Ridgeline", 189.0),
    "down-vest": ("Apparel", "Jackets", "Northfold", 149.0),
    "hiking-boots": ("Footwear", "Boots", "Ridgeline", 169.0),
    "leather-belt": ("Accessories", "Belts", "Demo Basics", 45.0),
    "linen-shirt": ("Apparel", "Shirts", "Demo Basics", 59.0),
    "cotton-hoodie": ("Apparel", "Sweatshirts", "Demo Basics", 65.0),
    "travel-backpack-30l": ("Bags", "Backpacks", "Ridgeline", 119.0),
    "water-bottle-750ml": ("Outdoor gear", "Hydration", "Ridgeline", 22.0),
    "thermal-gloves": ("Accessories", "Gloves", "Northfold", 35.0),
    "cashmere-scarf": ("Accessories", "Scarves", "Northfold", 89.0),
    "trekking-poles": ("Outdoor gear", "Poles", "Ridgeline", 79.0),
    "camping-mug": ("Outdoor gear", "Camp kitchen", "Ridgeline", 16.0),
    "sleeping-bag-3-season": ("Outdoor gear", "Sleeping bags", "Ridgeline", 159.0),
    "two-person-tent": ("Outdoor gear", "Tents", "Ridgeline", 249.0),
    "headlamp": ("Outdoor gear", "Lighting", "Ridgeline", 39.0),
    "fleece-pullover": ("Apparel", "Sweatshirts", "Northfold", 79.0),
    "chino-trousers": ("Apparel", "Trousers", "Demo Basics", 69.0),
    "denim-jacket": ("Apparel", "Jackets", "Demo Basics", 99.0),
    "silk-tie": ("Accessories", "Ties", "Demo Basics", 49.0),
    "wool-coat": ("Apparel", "Coats", "Northfold", 229.0),
    "rain-boots": ("Footwear", "Boots", "Demo Basics", 59.0),
    "sun-hat": ("Accessories", "Hats", "Demo Basics", 25.0),
    "beach-towel": ("Accessories", "Towels", "Demo Basics", 29.0),
    "yoga-mat": ("Outdoor gear", "Fitness", "Demo Basics", 39.0),
    "running-shorts": ("Apparel", "Shorts", "Ridgeline", 35.0),
    "compression-tights": ("Apparel", "Tights", "Ridgeline", 55.0),
    "gift-card": ("Gift cards", "Gift cards", "Demo shop", 50.0),
    "laptop-sleeve": ("Bags", "Sleeves", "Demo Basics", 34.0),
    "wallet": ("Accessories", "Wallets", "Demo Basics", 39.0),
    "sunglasses": ("Accessories", "Eyewear", "Ridgeline", 79.0),
    "umbrella": ("Accessories", "Umbrellas", "Demo Basics", 27.0),
    "knit-cardigan": ("Apparel", "Knitwear", "Northfold", 95.0),
    "puffer-jacket": ("Apparel", "Jackets", "Northfold", 199.0),
    "flannel-shirt": ("Apparel", "Shirts", "Northfold", 62.0),
    "climbing-chalk-bag": ("Outdoor gear", "Climbing", "Ridgeline", 21.0),
    "picnic-blanket": ("Outdoor gear", "Camping", "Demo Basics", 45.0),
}


@dataclass(frozen=True)
class Product:
    """One product of the shop, as its items array names it."""

    item_id: str
    name: str
    category: str
    category2: str
    brand: str
    price: float  # list price in EUR, the shop's currency


PRODUCTS: list[Product] = [
    Product(f"SKU-{1001 + i}", slug.replace("-", " ").title(), *_CATALOGUE[slug])
    for i, slug in enumerate(_PRODUCTS)
]
_PRICES = np.array([p.price for p in PRODUCTS])
_N = len(PRODUCTS)
# Salts of the items' own hash stream (distinct from every stream of the generator).
_CART_SALT, _BASKET_SALT = 0x17E3_C0DE_0001, 0x17E3_C0DE_0002


@dataclass(frozen=True)
class Items:
    """Item rows, sorted by event: each one event's product, units and revenue."""

    event: Int32Array  # index of the event (view_item, add_to_cart or purchase)
    product: SmallArray  # index into PRODUCTS
    quantity: SmallArray
    cents: Int32Array  # purchases: the item's share of the purchase value; else 0

    @property
    def revenue(self) -> FloatArray:
        """Each row's revenue in the property's currency."""
        return self.cents / 100.0

    @property
    def nbytes(self) -> int:
        return sum(int(a.nbytes) for a in vars(self).values())

    def __len__(self) -> int:
        return int(self.event.size)


def items_of(traffic: Traffic) -> Items:
    """``traffic``'s item rows, derived on first use and kept with it."""
    found = traffic.derived.get("items")
    if found is None:  # deterministic: two threads deriving at once agree
        found = traffic.derived["items"] = derive_items(traffic)
    assert isinstance(found, Items)
    return found


def _empty() -> Items:
    return Items(np.zeros(0, np.int32), np.zeros(0, np.int16), np.zeros(0, np.int16),
                 np.zeros(0, np.int32))


def event_keys(traffic: Traffic, events: IntArray) -> IntArray:
    """A key per event that does not depend on where the window starts: its user and
    local time (indices shift as days are added and dropped, these never do)."""
    views = traffic.x_view[events]
    users = traffic.s_user[traffic.e_session[views]].astype(np.uint64)
    times = traffic.e_time[views].astype(np.uint64)
    mixed = users * np.uint64(0x9E3779B97F4A7C15) ^ times
    return mixed.view(np.int64)


def _units(u: FloatArray) -> SmallArray:
    return (1 + (u >= 0.85) + (u >= 0.97)).astype(np.int16)


def derive_items(traffic: Traffic) -> Items:
    """The item rows of ``traffic``'s events (none but on the shop)."""
    if traffic.site.kind != "shop":
        return _empty()
    name = traffic.x_name
    page = traffic.e_page
    views = traffic.e_session.size
    # view_item: the product of the page.
    viewed = np.flatnonzero(name == EV["view_item"])
    viewed_product = page[traffic.x_view[viewed]] - SHOP_FIRST_PRODUCT
    # add_to_cart: the last product page of the session before the cart.
    carts = np.flatnonzero(name == EV["add_to_cart"])
    cart_views = traffic.x_view[carts].astype(np.int64)
    is_product = page >= SHOP_FIRST_PRODUCT
    last = np.maximum.accumulate(np.where(is_product, np.arange(views), -1))
    seen = last[cart_views]
    same = (seen >= 0) & (traffic.e_session[np.maximum(seen, 0)]
                          == traffic.e_session[cart_views])
    h = _hashes(_CART_SALT, event_keys(traffic, carts), 2)
    cart_product = np.where(same, page[np.maximum(seen, 0)] - SHOP_FIRST_PRODUCT,
                            (h[0] % np.uint64(_N)).astype(np.int64))
    cart_units = _units(_unit(h[1]))
    # purchase: the session's cart and up to two more products, sharing the value.
    bought = np.flatnonzero(name == EV["purchase"])
    h = _hashes(_BASKET_SALT, event_keys(traffic, bought), 5)
    first = (h[0] % np.uint64(_N)).astype(np.int64)
    first_units = _units(_unit(h[1]))
    if carts.size:
        at = np.maximum(np.searchsorted(carts, bought) - 1, 0)
        session = traffic.e_session[traffic.x_view[np.concatenate([carts[at], bought])]]
        own = (carts[at] < bought) & (session[: bought.size] == session[bought.size :])
        first = np.where(own, cart_product[at], first)
        first_units = np.where(own, cart_units[at], first_units)
    size = 1 + (_unit(h[2]) >= 0.55) + (_unit(h[2]) >= 0.85)  # 1, 2 or 3 products
    step = 1 + (h[3] % np.uint64(_N // 3 - 1)).astype(np.int64)  # distinct while 2 * step < N
    group = np.repeat(np.arange(bought.size), size)
    slot = np.arange(group.size) - np.repeat(np.cumsum(size) - size, size)
    product = (first[group] + slot * step[group]) % _N
    extra_units = np.where(_unit(h[4]) >= 0.9, 2, 1)
    units = np.where(slot == 0, first_units[group], extra_units[group]).astype(np.int16)
    value = _purchase_values(traffic, bought)
    weight = _PRICES[product] * units
    share = np.round(value[group] * weight / np.bincount(group, weight, bought.size)[group], 2)
    # The last item takes what rounding left over, so the items add up to the value.
    last_slot = slot == size[group] - 1
    others = np.bincount(group, np.where(last_slot, 0.0, share), bought.size)
    share[last_slot] = np.round(value - others, 2)
    events = np.concatenate([viewed, carts, np.repeat(bought, size)])
    order = np.argsort(events, kind="stable")
    return Items(
        event=events[order].astype(np.int32),
        product=np.concatenate([viewed_product, cart_product, product])[order].astype(np.int16),
        quantity=np.concatenate([np.ones(viewed.size, np.int16), cart_units, units])[order],
        cents=np.round(np.concatenate([np.zeros(viewed.size + carts.size), share])[order]
                       * 100).astype(np.int32),
    )


def _purchase_values(traffic: Traffic, events: IntArray) -> FloatArray:
    at = np.searchsorted(traffic.p_event, events)
    found = at < traffic.p_event.size
    out: npt.NDArray[np.float64] = np.zeros(events.size)
    hit = found.copy()
    hit[found] = traffic.p_event[at[found]] == events[found]
    out[hit] = traffic.p_value[at[hit]]
    return out
