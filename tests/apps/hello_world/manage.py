#!/usr/bin/env python
# The seed's example repositories (django-hello-world-v2 ... v6) as they are
# laid out, rewritten for Django 5 (their urls.py used django.conf.urls.url).
# Each test adds the version's .warpdrive/deploy_mode and server_args.
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hello_world.settings")

    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
