"""Local stand-ins for the services gadash talks to, for the demo and the tests.

``server``: the GA4 Data API v1beta over gRPC (``python -m gadash.standin``), with
``demo_properties(sessions_per_day, days, seed, time_zone, cardinality_limit)``:

=====================  =========  ================  ========  =============================
property               name       time zone         currency  history
=====================  =========  ================  ========  =============================
properties/100000001   Demo blog  ``time_zone``     USD       ``days``; key event sign_up
properties/100000002   Demo shop  Europe/Berlin     EUR       ``days``; key event purchase
properties/100000003   Demo news  Europe/London     GBP       from 2018-01-01; sign_up and
                                                              purchase (subscriptions)
=====================  =========  ================  ========  =============================

Every property folds values of a dimension past its ``cardinality_limit`` into
``(other)`` (demo default: twice ``sessions_per_day``, at least 500); the news
site also samples date ranges with more than ``sampling_event_limit`` events and
withholds rows of reports with user metrics under ``user_threshold`` users.
Each property also has what a real one has: custom definitions (blog:
``customEvent:article_category``, ``customUser:reader_type``, metric
``customEvent:reading_time_sec``; shop: ``customEvent:payment_type``,
``customUser:loyalty_tier``, metric ``customEvent:discount_amount``; news:
``customEvent:article_section``, ``customUser:subscription_status``, metric
``customEvent:percent_scrolled``), its key events' metrics (``keyEvents:<event>``,
``sessionKeyEventRate:<event>``, ``userKeyEventRate:<event>``), the manual campaign
(UTM) dimensions and, on the shop, e-commerce items (``itemName`` ... ``itemRevenue``).
Fields GA refuses together (item-scoped with event-scoped ones ...) are refused with
GA's message, and CheckCompatibility says which.

``schema`` lists the dimensions and metrics; ``engine`` computes reports;
``traffic`` generates the synthetic sessions, page views and events; ``custom`` and
``items`` derive the custom definitions' values and the shop's items from them;
``compat`` has GA's compatibility rules.
``shares`` and ``http``: the share-count APIs over HTTP.
"""
