"""Tools for whoever runs magbot: ``doctor`` (offline checks), ``evaluate`` (the dev and test splits),
``pubmed`` (adding studies by PubMed ID) and ``feedback`` (the ratings store, export, retention).
"""

__all__ = ["doctor", "evaluate", "feedback", "pubmed"]
