"""mlstat-imagery."""
