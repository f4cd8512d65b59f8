"""The licences a source may carry: the ids of http://dcat-ap.de/def/licenses/ (GovData's list)."""

LICENCE_BASE = "http://dcat-ap.de/def/licenses/"
LICENCES = (
    "dl-by-de/2.0", "dl-zero-de/2.0", "dl-by-nc-de/1.0", "dl-by-de/1.0",
    "cc-by/4.0", "cc-by-sa/4.0", "cc-by-nd/4.0", "cc-by-nc/4.0", "cc-by-nc-sa/4.0",
    "cc-by-nc-nd/4.0", "cc-by-de/3.0", "cc-by-sa-de/3.0", "cc-zero", "odbl", "odc-by",
    "odc-pddl", "gfdl", "apache", "bsd", "gpl/3.0", "mozilla", "officialWork",
    "other-open", "other-opensource", "other-freeware", "other-commercial", "other-closed",
)
