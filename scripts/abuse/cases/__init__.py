"""Every abuse case, registered in the order the suite runs them (`suite.case`)."""

from cases import connections, protocol, publishing, ingress, registry, backlog, tenants  # noqa: F401
