create
-Z
x.cfg
