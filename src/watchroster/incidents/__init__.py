"""The incident inbox: reports newest first, filters, marking as reviewed, CSV."""
