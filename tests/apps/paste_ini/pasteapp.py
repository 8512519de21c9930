import probe


def make_app(global_conf, **settings):
    return probe.make("paste " + settings["name"])
