"""Shadow comparison: prove a pin change on live reads before making it (README, "Before you raise
the pin"). Off unless ``shadow.candidate_api_version`` is set."""
