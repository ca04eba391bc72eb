create
--help
