# plugins/jsonl: nothing yet
