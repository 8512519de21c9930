# The app's home is src/ (.warpdrive/home); `shared` lives at the top of the
# source tree, which is on PYTHONPATH too.
import shared

application = shared.probe.make("home " + shared.NAME)
