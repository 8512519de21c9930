# Both names detection could take; MOD_WSGI_CALLABLE_OBJECT picks `other`.
import probe

application = probe.make("application")
other = probe.make("other")
