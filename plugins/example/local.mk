# plugins/example: nothing yet
