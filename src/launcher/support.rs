//! The embedded Python support module (`warpdrive_wsgi`): proxy-header
//! middleware and the WhiteNoise wrapper for gunicorn, waitress and uWSGI.
