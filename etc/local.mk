# etc: nothing yet
