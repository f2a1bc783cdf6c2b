"""Staff roles this app needs, merged with other apps' by `manage.py setup_roles`.

Each role is a group name mapped to "app_label.codename" permissions. Editors write and publish
articles and tags; they get nothing on users, groups or signups.
"""

ROLES = {
    "Editors": [
        "articles.add_article",
        "articles.change_article",
        "articles.delete_article",
        "articles.view_article",
        "articles.view_historicalarticle",
        "articles.add_reference",
        "articles.change_reference",
        "articles.delete_reference",
        "articles.view_reference",
        "articles.add_author",
        "articles.change_author",
        "articles.view_author",
        "articles.add_reviewer",
        "articles.change_reviewer",
        "articles.view_reviewer",
        "articles.add_review",
        "articles.change_review",
        "articles.delete_review",
        "articles.view_review",
        "articles.view_reviewreminder",
        "articles.change_editorialsettings",
        "articles.view_editorialsettings",
        "articles.add_taggedarticle",
        "articles.change_taggedarticle",
        "articles.delete_taggedarticle",
        "articles.view_taggedarticle",
        "articles.add_image",
        "articles.change_image",
        "articles.delete_image",
        "articles.view_image",
        "taggit.add_tag",
        "taggit.change_tag",
        "taggit.delete_tag",
        "taggit.view_tag",
    ],
}
