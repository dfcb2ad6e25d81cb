# plugins/sim: nothing yet
