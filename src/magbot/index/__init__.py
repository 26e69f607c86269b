"""The knowledge and its index: ``ingest`` reads and checks the knowledge files, ``chunking`` cuts them into
passages, ``embed`` loads the bundled model, ``store`` keeps the Chroma index named by a hash of what built it.
"""

__all__ = ["chunking", "embed", "ingest", "store"]
