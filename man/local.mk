# man: nothing yet
