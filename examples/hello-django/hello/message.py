TEXT = "Hello from Django, served by warpdrive"
