help
create
