"""Pages that link no icon (the admin) make browsers ask for /favicon.ico:
it answers with the site's icon rather than a 404 in the console."""

from django.templatetags.static import static


def test_favicon_ico_redirects_to_the_site_icon(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == static("img/favicon.svg")
