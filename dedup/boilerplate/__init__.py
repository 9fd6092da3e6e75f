"""Site boilerplate: the stages behind :class:`dedup.steps.boilerplate.SiteBoilerplate`.

``pages`` splits a page into blocks and word tokens, ``sites`` counts what a site's pages
repeat (exact, fuzzy by block-level MinHash-LSH, word n-grams, block prefixes), ``features``
describes every block, ``trees`` evaluates the shipped classifier, ``train`` fits it on gold.
"""
