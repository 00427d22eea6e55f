"""OA area: attendance, announcements, the calendar week and the notification inbox."""
