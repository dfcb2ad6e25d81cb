# tools: nothing yet
