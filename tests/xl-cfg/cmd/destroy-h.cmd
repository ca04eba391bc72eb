destroy
-h
