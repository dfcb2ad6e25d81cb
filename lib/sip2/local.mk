# lib/sip2: nothing yet
